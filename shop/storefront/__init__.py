"""The storefront: the public catalog pages (home, facilities, product list and page), their queries, the page
cache and kept fragments, and the buyer's order page. Routes are attached to the `catalog` and `orders` blueprints,
so endpoints and templates keep those names."""
