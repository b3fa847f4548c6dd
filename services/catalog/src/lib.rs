//! The catalog service: products, variants, categories, images and stock. Not built yet.
