//! The users service: accounts, authentication and roles. Not built yet.
