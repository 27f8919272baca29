"""What every payment provider's gateway may raise, so a screen can catch any provider's refusal without naming it."""


class GatewayError(Exception):
    """A payment provider refused or could not be reached; the message is safe to log, not to show to buyers."""
