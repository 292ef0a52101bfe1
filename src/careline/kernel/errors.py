"""Domain errors: entry points translate them into HTTP statuses or CLI messages."""


class CarelineError(Exception):
    """Base class of every error the domain raises on purpose."""


class NotFound(CarelineError):
    pass


class InvalidInput(CarelineError):
    pass


class Conflict(CarelineError):
    """The request collides with the current state (taken by another agent, stale version, ...)."""


class Forbidden(CarelineError):
    pass
