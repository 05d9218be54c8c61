"""Whether the content of an email says anything."""

from lxml import etree, html

from odoo.tools import is_html_empty

# elements that are content without any text
MEDIA_TAGS = {"img", "video", "iframe", "svg", "object", "embed", "picture"}
# elements whose text is not shown
HIDDEN_TAGS = {"style", "script", "title", "head"}


def is_mail_body_empty(body):
    """Whether the HTML ``body`` of an email shows nothing: no text, no image,
    no link, no template code. Odoo's ``is_html_empty`` sees only a few
    formatting tags; the email editor's *Start From Scratch* gives an empty
    layout of divs and tables, which is empty too."""
    if is_html_empty(body):
        return True
    try:
        tree = html.fragment_fromstring(body, create_parent="div")
    except (etree.ParserError, ValueError):
        return False
    for node in tree.iter(etree.Element):
        if node.tag in MEDIA_TAGS or node.tag == "t" or (node.tag == "a" and node.get("href")):
            return False
        if any(attribute.startswith("t-") for attribute in node.attrib):
            return False
    for node in list(tree.iter(*HIDDEN_TAGS)):
        node.drop_tree()
    text = tree.text_content().replace("\u00a0", " ").replace("\u200b", "")
    return not text.strip()
