//! A fake Microsoft Entra ID tenant (Microsoft Graph v1.0). Under construction.
