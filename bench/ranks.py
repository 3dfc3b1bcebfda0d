"""``make bench-ranks``: rank tracking's two benchmarks, one after the other, and their figures on one line.

``bench.ranks_items``: 1,000 keywords' depth-100 SERPs parsed and stored through rank_check (items per second).
``bench.ranks_screenshots``: screenshots per second in one warm serp_screenshot environment beside a bare
Playwright loop over the same captures, and a screenshot environment's cold start. Each module's docstring says
how; each runs alone too (``make bench-ranks-items``, ``make bench-ranks-screenshots``). The last line is
machine-readable.
"""

import sys

from bench import ranks_items, ranks_screenshots


def main() -> int:
    items = ranks_items.measure()
    shots = ranks_screenshots.measure()
    print(
        f"bench-ranks serp_items_per_s={items['serp_items_per_s']:.0f}"
        f" screenshots_per_s={shots['screenshots_per_s']:.2f}"
        f" vs_bare_playwright={shots['vs_bare_playwright']:.2f}"
        f" screenshot_cold_s={shots['screenshot_cold_s']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
