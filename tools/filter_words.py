"""A filter (an evaluated domain) in words, as a marketing user reads it:
``Country > Country Code = "BE" and Email is set``."""

from odoo.osv import expression


def describe_domain(model, domain, translate):
    """Describe ``domain`` (a list, already evaluated) on ``model`` (an empty
    recordset, for field labels); ``translate`` is the environment's ``_``.

    The prefix notation is read from its end with a stack, never recursively:
    a filter of a thousand nested operators is described like any other."""
    domain = expression.normalize_domain(domain)
    if domain == expression.normalize_domain([]):
        return translate("All records")
    _ = translate
    stack = []
    for item in reversed(domain):
        if item == "!":
            if not stack:
                return _("Unreadable filter")
            stack.append(_("not (%(condition)s)", condition=stack.pop()))
        elif item in ("&", "|"):
            if len(stack) < 2:
                return _("Unreadable filter")
            left, right = stack.pop(), stack.pop()
            if item == "&":
                stack.append(_("%(left)s and %(right)s", left=left, right=right))
            else:
                stack.append(_("(%(left)s or %(right)s)", left=left, right=right))
        else:
            stack.append(_describe_leaf(model, item, _))
    return stack[0] if len(stack) == 1 else _("Unreadable filter")


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
        return ", ".join(_plain_value_words(item, _) for item in value) or _("nothing")
    return _plain_value_words(value, _)


def _plain_value_words(value, _):
    if value is True:
        return _("yes")
    if value is False or value is None:
        return _("not set")
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)
