"""Evaluation of the filters that users write (campaign, activity and favorite
filters).

A filter is Python source written by Odoo's domain editor or by hand, and it
runs again later under the scheduler. ``safe_eval`` would let it call methods
of whatever its context holds, so filters are read by this small interpreter
instead: it accepts what a domain needs (literals, lists and tuples, the plain
names of its context, the date helpers that the domain editor writes, ``+`` and
``-``) and nothing else. No record, environment or cursor is reachable, there is
no loop, comprehension, power or repetition, so a filter can neither run code
nor keep the server busy: its cost is bounded by its length
(``MAX_FILTER_LENGTH``) and the interpreter never recurses deeper than
``MAX_NESTING`` levels.
"""

import ast
import datetime

import pytz
from dateutil.relativedelta import relativedelta

# a filter of the domain editor holds a few hundred characters per condition
MAX_FILTER_LENGTH = 20_000
# lists, calls and operations nested in one another (a date helper needs about 8)
MAX_NESTING = 32

_DATE_TYPES = (datetime.date, datetime.datetime)
_DELTA_TYPES = (datetime.timedelta, relativedelta)
_NUMBER_TYPES = (int, float)
_PLAIN_TYPES = (str, int, float, bool, type(None), datetime.date, datetime.datetime)


class FilterError(ValueError):
    """A filter that cannot be evaluated; its message is translated."""


class FilterEvaluator:
    """Evaluate filters with plain values only.

    :param names: the plain values a filter may name (``uid``, company ids...)
    :param today: the user's date, returned by ``context_today()``
    :param tz: the user's time zone name, used by ``to_utc()``
    :param translate: the environment's translation function (``env._``)
    """

    def __init__(self, names, today, tz, translate):
        self._ = translate
        self.tz = pytz.timezone(tz or "UTC")
        self.names = dict(names)
        self._today = today
        self._depth = 0
        self._source = ""
        self.functions = {
            "context_today": lambda: today,
            "relativedelta": relativedelta,
        }
        self.namespaces = {
            "datetime": {
                "date": datetime.date,
                "datetime": datetime.datetime,
                "time": datetime.time,
                "timedelta": datetime.timedelta,
            },
            "time": {"strftime": lambda fmt: datetime.datetime.now().strftime(fmt)},
        }
        # methods a filter may call, per type of the value they are called on
        self.methods = {
            datetime.datetime: {
                "strftime": datetime.datetime.strftime,
                "isoformat": datetime.datetime.isoformat,
                "date": datetime.datetime.date,
                "to_utc": self._to_utc,
            },
            datetime.date: {
                "strftime": datetime.date.strftime,
                "isoformat": datetime.date.isoformat,
            },
        }
        # class methods a filter may call (``datetime.date.today()``...)
        self.class_methods = {
            datetime.date: {"today"},
            datetime.datetime: {"now", "today", "combine"},
        }

    @classmethod
    def literal(cls, translate):
        """An evaluator of literal filters only (lists, tuples and plain values;
        no name, date helper or call), for a filter that is read and written
        back: a computed filter would be frozen at its current values."""
        evaluator = cls({}, None, None, translate)
        evaluator.functions = {}
        evaluator.namespaces = {}
        evaluator.methods = {}
        evaluator.class_methods = {}
        return evaluator

    @property
    def key(self):
        """What the result of a filter depends on besides its source: filters
        evaluated by equal keys give equal domains (see
        ``marketing.filter.mixin._parse_domain``)."""
        return (
            tuple(
                (name, tuple(value) if isinstance(value, list) else value)
                for name, value in sorted(self.names.items())
            ),
            self._today,
            self.tz.zone,
        )

    def evaluate(self, source):
        """Return the domain (a list) that ``source`` describes."""
        source = (source or "[]").strip() or "[]"
        if len(source) > MAX_FILTER_LENGTH:
            raise FilterError(
                self._(
                    "The filter is too long (%(max)s characters at most).", max=MAX_FILTER_LENGTH
                )
            )
        try:
            tree = ast.parse(source, mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
            raise FilterError(
                self._("The filter is not valid Python: %(error)s", error=error)
            ) from None
        self._depth = 0
        self._source = source
        try:
            domain = self._eval(tree.body)
        except FilterError:
            raise
        except RecursionError:
            raise FilterError(self._("The filter is nested too deeply.")) from None
        except (TypeError, ValueError, OverflowError, ArithmeticError) as error:
            raise FilterError(
                self._("The filter cannot be computed: %(error)s", error=error)
            ) from None
        self._check_domain(domain)
        return list(domain)

    # ------------------------------------------------------------
    # INTERPRETER
    # ------------------------------------------------------------

    def _eval(self, node):
        method = getattr(self, f"_eval_{type(node).__name__}", None)
        if method is None:
            raise FilterError(
                self._(
                    "A filter can only hold values, lists and date helpers; "
                    "“%(expression)s” is not allowed.",
                    expression=self._snippet(node),
                )
            )
        if self._depth >= MAX_NESTING:
            raise FilterError(
                self._("The filter is nested too deeply (%(max)s levels at most).", max=MAX_NESTING)
            )
        self._depth += 1
        try:
            return method(node)
        finally:
            self._depth -= 1

    def _eval_Constant(self, node):
        if not isinstance(node.value, _PLAIN_TYPES):
            raise FilterError(
                self._(
                    "“%(expression)s” is not allowed in a filter.", expression=self._snippet(node)
                )
            )
        return node.value

    def _eval_List(self, node):
        return [self._eval(element) for element in node.elts]

    def _eval_Tuple(self, node):
        return tuple(self._eval(element) for element in node.elts)

    def _eval_Name(self, node):
        if node.id in self.names:
            return self.names[node.id]
        raise FilterError(
            self._(
                "“%(name)s” is not available in a filter. You can use: %(names)s.",
                name=node.id,
                names=", ".join(sorted([*self.names, *self.functions, *self.namespaces])),
            )
        )

    def _eval_UnaryOp(self, node):
        operand = self._eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        if isinstance(node.op, ast.USub | ast.UAdd) and isinstance(operand, _NUMBER_TYPES):
            return -operand if isinstance(node.op, ast.USub) else operand
        raise FilterError(
            self._("“%(expression)s” is not allowed in a filter.", expression=self._snippet(node))
        )

    def _eval_BinOp(self, node):
        if not isinstance(node.op, ast.Add | ast.Sub):
            raise FilterError(
                self._(
                    "“%(expression)s” is not allowed in a filter.", expression=self._snippet(node)
                )
            )
        left, right = self._eval(node.left), self._eval(node.right)
        arithmetic = (*_NUMBER_TYPES, *_DATE_TYPES, *_DELTA_TYPES)
        if isinstance(left, arithmetic) and isinstance(right, arithmetic):
            return left + right if isinstance(node.op, ast.Add) else left - right
        # lists are joined as record rules write them (company_ids + [False]): the
        # result is no longer than the filter's own values
        if (
            isinstance(node.op, ast.Add)
            and type(left) is type(right)
            and type(left) in (list, tuple)
        ):
            return left + right
        raise FilterError(
            self._(
                "Only dates, durations and numbers can be added or subtracted, and lists "
                "joined, in a filter: “%(expression)s”.",
                expression=self._snippet(node),
            )
        )

    def _eval_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.namespaces:
            namespace = self.namespaces[node.value.id]
            if node.attr in namespace:
                return namespace[node.attr]
        raise FilterError(
            self._("“%(expression)s” is not allowed in a filter.", expression=self._snippet(node))
        )

    def _eval_Call(self, node):
        if any(isinstance(arg, ast.Starred) for arg in node.args) or any(
            keyword.arg is None for keyword in node.keywords
        ):
            raise FilterError(
                self._(
                    "“%(expression)s” is not allowed in a filter.", expression=self._snippet(node)
                )
            )
        function = self._eval_callee(node.func)
        args = [self._eval(arg) for arg in node.args]
        kwargs = {keyword.arg: self._eval(keyword.value) for keyword in node.keywords}
        return function(*args, **kwargs)

    def _eval_callee(self, func):
        """The function a call names: a date helper, a date class of the
        ``datetime`` namespace, or an allowed method of a date value."""
        if isinstance(func, ast.Name) and func.id in self.functions:
            return self.functions[func.id]
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in self.namespaces:
                return self._eval_Attribute(func)
            owner = self._eval(func.value)
            if isinstance(owner, type) and func.attr in self.class_methods.get(owner, ()):
                return getattr(owner, func.attr)
            if type(owner) in self.methods and func.attr in self.methods[type(owner)]:
                method = self.methods[type(owner)][func.attr]
                return lambda *args, **kwargs: method(owner, *args, **kwargs)
        raise FilterError(
            self._("“%(expression)s” cannot be called in a filter.", expression=self._snippet(func))
        )

    def _to_utc(self, value):
        """The domain editor writes local datetimes followed by ``.to_utc()``."""
        return self.tz.localize(value).astimezone(pytz.utc).replace(tzinfo=None)

    def _snippet(self, node):
        """The source of ``node``, shortened (read from the text: never
        recursive, whatever the node holds)."""
        text = ast.get_source_segment(self._source, node) or ""
        return text if len(text) <= 80 else f"{text[:77]}..."

    # ------------------------------------------------------------
    # RESULT
    # ------------------------------------------------------------

    def _check_domain(self, domain):
        """A domain is a list of operators and (field, operator, value) leaves
        whose values are plain."""
        if not isinstance(domain, list | tuple):
            raise FilterError(self._("A filter must be a list of conditions."))
        for item in domain:
            if item in ("&", "|", "!"):
                continue
            if not (
                isinstance(item, list | tuple)
                and len(item) == 3
                and isinstance(item[0], str | int)
                and isinstance(item[1], str)
                and self._is_plain_value(item[2])
            ):
                raise FilterError(
                    self._(
                        "“%(condition)s” is not a condition: a filter holds conditions "
                        "written (field, operator, value) and the operators '&', '|', '!'.",
                        condition=str(item)[:80],
                    )
                )

    def _is_plain_value(self, value):
        if isinstance(value, list | tuple):
            return all(isinstance(element, _PLAIN_TYPES) for element in value)
        return isinstance(value, _PLAIN_TYPES)
