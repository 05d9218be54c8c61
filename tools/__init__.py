from . import filter_eval
from . import filter_words
