//! The cart service: carts, the checkout saga and orders. Not built yet.
