# The bidding world (a poster co-op with an open job, two co-ops that may bid) serves here too.
from ..bids.conftest import alpha, alpha_user, beta, beta_user, job, poster, poster_coop  # noqa: F401
