"""The modules of the ``./dev`` script (standard library only).

The addon never imports this package: Odoo loads a module through its ``__init__.py``, which
does not name it, and the package defines no model and no translated string.
"""
