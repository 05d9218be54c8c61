"""The products compared by the benchmark, by key, and the stages each one has."""

import product_ma
import product_mm
import product_oca

PRODUCTS = {"ma": product_ma, "mm": product_mm, "oca": product_oca}
LABELS = {
    "ma": "this module",
    "mm": "Email Marketing (plain)",
    "oca": "OCA automation_oca",
}
# the Odoo modules each product's database installs
MODULES = {
    "ma": ["marketing_automation_community"],
    "mm": ["mass_mailing", "mass_mailing_sms"],
    "oca": ["automation_oca"],
}
