"""Domain errors. Each carries a sentence the client shows its user."""


class DomainError(Exception):
    """A refused operation; ``str(error)`` is the message for the client."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UploadRejected(DomainError):
    pass


class Forbidden(DomainError):
    status = 403
