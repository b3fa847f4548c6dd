//! The search service: full-text search, autocomplete and facets over the catalog. Not built yet.
