"""Body text for the demo pages: sentences that name brands, products, places and routes.

Written for the analyses that come later (entity extraction, topics), not for people: each paragraph
mixes a page's subject with concrete names. Deterministic for a given ``random.Random``.
"""

import random
from collections.abc import Sequence

from kestrel_local.demo_site.inventory import Category, Place

_PRODUCT_SENTENCES = (
    "We took the {product} up {route} in {place} and it never once felt out of its depth.",
    "Compared with the {other}, the {product} is lighter, a little narrower and noticeably quicker to dry.",
    "The {product} has been refined over several seasons, and this edition fixes the niggles testers had.",
    "On wet rock above {town} the {product} gripped better than we expected for the price.",
    "If you are choosing your first {singular}, the {product} is an easy recommendation from our staff in {town}.",
    "Our returns data show that most customers keep the {product}; the few who send it back want a roomier fit.",
    "Paired with the {other}, the {product} makes a versatile kit for three-season trips in {place}.",
    "The {product} comes with the maker's warranty, and our workshop handles repairs within ten days.",
)
_PLACE_SENTENCES = (
    "{route} starts near {town}, and the first day climbs steadily through forest before the views open up.",
    "Weather in {place} changes fast, so a {singular} you trust matters more than saving a few grams.",
    "Most hikers walk {route} between June and September, when the huts in {region} are open.",
    "We met a ranger from {region} who recommended starting early to avoid afternoon storms.",
    "Water is easy to find along {route}, but we still carried a filter and a spare litre.",
    "The descent into {town} is steep and loose; trekking poles saved our knees more than once.",
)
_GENERAL_SENTENCES = (
    "Fit comes first: try gear on in the afternoon, with the socks and layers you will actually wear.",
    "Weight matters most on long days, but durability matters more when you only buy once.",
    "Our team tests every product for at least three weeks before it appears in a guide.",
    "Look after your gear and it will look after you: clean it, dry it, and store it loosely.",
    "Prices change often, and we update our recommendations when a better option arrives.",
    "Ask our staff in store or by chat; we answer questions about sizing within a working day.",
)

_SENTENCES = _PRODUCT_SENTENCES + _PLACE_SENTENCES + _GENERAL_SENTENCES


def paragraphs(
    rng: random.Random,
    count: int,
    *,
    category: Category,
    products: Sequence[str],
    place: Place,
) -> tuple[str, ...]:
    """``count`` paragraphs of four to six sentences about ``category`` in ``place``."""
    out = []
    for _ in range(count):
        sentences = []
        for template in rng.sample(_SENTENCES, k=rng.randint(4, 6)):  # no sentence twice in a paragraph
            product, other = rng.sample(list(products), 2) if len(products) > 1 else (products[0], products[0])
            sentence = template.format(
                product=product,
                other=other,
                singular=category.singular,
                place=place.name,
                route=place.route,
                town=place.town,
                region=place.region,
            )
            sentences.append(sentence[0].upper() + sentence[1:])
        out.append(" ".join(sentences))
    return tuple(out)
