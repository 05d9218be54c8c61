import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from ..tools.filter_eval import FilterError, FilterEvaluator
from ..tools.filter_words import describe_domain

_logger = logging.getLogger(__name__)

# parsed filters kept in the cursor's cache (see _parse_domain)
PARSED_FILTERS_CACHE = "marketing_automation_community.parsed_filters"
MAX_PARSED_FILTERS = 2_000


class MarketingFilterMixin(models.AbstractModel):
    """A filter on the target model of a campaign: the campaign's own filter
    (and goal), an activity's filter, a favorite filter.

    A filter is Python source that the domain editor writes; it is read by
    ``tools.filter_eval`` only, with plain values (never a record), within its
    bounds of length and nesting, and parsed once per transaction. The models
    that inherit it have ``model_id`` (the target, ``ir.model``),
    ``model_name`` and ``company_id``.
    """

    _name = "marketing.filter.mixin"
    _description = "Marketing Automation Filter"

    domain = fields.Char("Filter", default="[]", required=True)
    favorite_filter_id = fields.Many2one(
        "marketing.favorite.filter",
        store=False,
        domain="[('model_id', '=', model_id)]",
        help="Load a saved filter into this filter.",
    )

    @api.onchange("favorite_filter_id")
    def _onchange_favorite_filter_id(self):
        if self.favorite_filter_id:
            self.domain = self.favorite_filter_id.domain
            self.favorite_filter_id = False

    def _get_filter_user(self):
        """The user whose id, time zone and date a filter reads."""
        return self.env.user

    def _get_filter_evaluator(self):
        """Filters are evaluated with plain values only (see
        ``tools.filter_eval``): the id, time zone and date of the user of
        ``_get_filter_user()``, and the record's company."""
        user = self._get_filter_user()
        company = self.company_id or self.env.company
        return FilterEvaluator(
            names={"uid": user.id, "company_id": company.id, "company_ids": company.ids},
            today=fields.Date.context_today(self.with_user(user)),
            tz=user.tz,
            translate=self.env._,
        )

    def _parse_domain(self, domain):
        """Evaluate ``domain`` (a filter of this record) and check it against
        the target model; raise a ValidationError when it cannot be used.

        Each filter is parsed once per transaction for a given model, user and
        evaluation values (``PARSED_FILTERS_CACHE`` of the cursor's cache): an
        activity's applied filter joins those of all its ancestors, which are
        then read again without being parsed again."""
        self.ensure_one()
        model_name = self.model_name
        evaluator = self._get_filter_evaluator()
        key = (domain, model_name, self.env.uid, self.env.su, evaluator.key)
        cache = self.env.cr.cache.setdefault(PARSED_FILTERS_CACHE, {})
        if key in cache:
            return list(cache[key])
        model_label = self.model_id.name or model_name
        try:
            parsed = expression.normalize_domain(evaluator.evaluate(domain))
            self.env[model_name]._search(parsed)
        except FilterError as error:
            raise ValidationError(
                _(
                    "The filter %(domain)s cannot be used for %(model)s: %(error)s",
                    domain=self._shorten(domain),
                    model=model_label,
                    error=error,
                )
            ) from None
        except Exception as error:  # noqa: BLE001 - any field or value error is a bad filter
            _logger.info("Invalid filter %r on %s: %s", self._shorten(domain), model_name, error)
            raise ValidationError(
                _(
                    "The filter %(domain)s is not valid for %(model)s: check its fields and "
                    "values (%(error)s).",
                    domain=self._shorten(domain),
                    model=model_label,
                    error=error
                    if isinstance(error, UserError | ValueError)
                    else type(error).__name__,
                )
            ) from None
        if len(cache) >= MAX_PARSED_FILTERS:
            cache.clear()
        cache[key] = tuple(parsed)
        return list(parsed)

    def _describe_domain(self, domain):
        """The filter ``domain`` of this record in words, or why it cannot be read."""
        self.ensure_one()
        if not self.model_name or self.model_name not in self.env:
            return False
        try:
            parsed = self._parse_domain(domain)
        except ValidationError:
            return _("Invalid filter")
        return describe_domain(self.env[self.model_name], parsed, self.env._)

    @staticmethod
    def _shorten(text, size=200):
        text = text or ""
        return text if len(text) <= size else f"{text[: size - 3]}..."
