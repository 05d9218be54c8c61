from . import filter_eval
