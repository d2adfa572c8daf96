//! A fake Auth0 tenant (Management API v2). Under construction.
