# tests added by their area's author
