"""Users, stores (门店), memberships with roles, log-in with throttling."""
