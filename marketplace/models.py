"""Imports every model so that SQLAlchemy (and Alembic) know all tables."""
from .accounts.models import LoginFailure, User  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .consortia.models import (Consortium, ConsortiumComment, ConsortiumMember,  # noqa: F401
                               PartnerOffer)
from .coops.models import Coop, CoopMember, JoinRequest, coop_skill  # noqa: F401
from .federation.models import Network, NetworkCoordinator, NetworkMembership  # noqa: F401
from .jobs.models import Job, job_skill  # noqa: F401
from .skills.models import Skill  # noqa: F401
from .coordinator.models import CoopCapacity, Invitation  # noqa: F401
from .api.models import ApiToken, IdempotentRequest  # noqa: F401
from .core.revision import SiteRevision  # noqa: F401
from .alerts.models import AlertDelivery, AlertOptOut, ReminderSent, SavedSearch  # noqa: F401
from .documents.models import Document  # noqa: F401
from .evaluation.models import BidScore  # noqa: F401
