"""A filter (an evaluated domain) in words, as a marketing user reads it:
``Country > Country Code = "BE" and Email is set``."""

from odoo.osv import expression


def describe_domain(model, domain, translate):
    """Describe ``domain`` (a list, already evaluated) on ``model`` (an empty
    recordset, for field labels); ``translate`` is the environment's ``_``."""
    domain = expression.normalize_domain(domain)
    if domain == expression.normalize_domain([]):
        return translate("All records")
    words, rest = _describe(model, domain, translate)
    return words if not rest else translate("Unreadable filter")


def _describe(model, domain, _):
    """Describe the first expression of the prefix-notation ``domain``;
    return its words and the items left after it."""
    head, rest = domain[0], domain[1:]
    if head == "!":
        words, rest = _describe(model, rest, _)
        return _("not (%(condition)s)", condition=words), rest
    if head in ("&", "|"):
        left, rest = _describe(model, rest, _)
        right, rest = _describe(model, rest, _)
        if head == "&":
            return _("%(left)s and %(right)s", left=left, right=right), rest
        return _("(%(left)s or %(right)s)", left=left, right=right), rest
    return _describe_leaf(model, head, _), rest


def _describe_leaf(model, leaf, _):
    if leaf in (expression.TRUE_LEAF, expression.FALSE_LEAF):
        return _("all records") if leaf == expression.TRUE_LEAF else _("no record")
    path, operator, value = leaf
    label = _field_path_label(model, path)
    if operator in ("=", "!=") and value is False:
        return (
            _("%(field)s is not set", field=label)
            if operator == "="
            else _("%(field)s is set", field=label)
        )
    operators = {
        "=": "=",
        "!=": "≠",
        "<": "<",
        "<=": "≤",
        ">": ">",
        ">=": "≥",
        "in": _("is in"),
        "not in": _("is not in"),
        "like": _("contains"),
        "ilike": _("contains"),
        "not like": _("does not contain"),
        "not ilike": _("does not contain"),
        "=like": _("matches"),
        "=ilike": _("matches"),
        "child_of": _("is under"),
        "parent_of": _("is above"),
    }
    return _(
        "%(field)s %(operator)s %(value)s",
        field=label,
        operator=operators.get(operator, operator),
        value=_value_words(value, _),
    )


def _field_path_label(model, path):
    labels = []
    for name in str(path).split("."):
        field = model._fields.get(name) if model is not None else None
        if field is None:
            labels.append(name)
            model = None
            continue
        labels.append(field.get_description(model.env, ["string"])["string"])
        model = model.env[field.comodel_name] if field.relational else None
    return " > ".join(labels)


def _value_words(value, _):
    if isinstance(value, list | tuple):
        return ", ".join(_value_words(item, _) for item in value) or _("nothing")
    if value is True:
        return _("yes")
    if value is False or value is None:
        return _("not set")
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)
