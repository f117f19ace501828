"""Domain errors. Each carries a sentence the client shows its user."""


class DomainError(Exception):
    """A refused operation; ``str(error)`` is the message for the client."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class UploadRejected(DomainError):
    pass


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403
