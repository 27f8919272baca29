"""Staff screens that read several domains: users and roles, the audit log in people's words, facilities and
categories. Routes are attached to the blueprints of the domain they manage (`accounts`, `audit`, `catalog`), so
endpoints and templates keep those names."""
