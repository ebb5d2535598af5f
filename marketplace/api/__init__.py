"""JSON API v1. Importing the package registers every endpoint module on the blueprint."""
from .base import bp  # noqa: F401
from . import routes  # noqa: F401,E402
from . import writes  # noqa: F401,E402
from . import bidding  # noqa: F401,E402
from . import files  # noqa: F401,E402
from . import openapi  # noqa: F401,E402
from . import export  # noqa: F401,E402
from . import scoring  # noqa: F401,E402
