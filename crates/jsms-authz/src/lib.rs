//! jsms-authz
