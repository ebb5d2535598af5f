"""Consortia: co-ops forming a team, agreeing who does and earns what, and bidding as one.

How it works, and the choices made:

- A co-op forms a consortium for a job (or a standing one, for repeated joint work) and leads
  it. The lead starts with 100 % of the work and money, invites co-ops (by name or short name)
  and shares the work and money out in "the split". Only co-ops that may see the job can be
  invited (never the poster); the lead is told why not (``federation.policy.why_coop_cannot_view``).
- Invited co-ops accept or decline. A change of a member's role or shares after it accepted
  sets it to "waiting for re-acceptance"; declining then takes it out of the team.
- The split saves only when each column adds up to 100 % over the co-ops taking part. The
  consortium submits only when every co-op accepted it, its team has at least two co-ops,
  and every one of them may see the job.
- One bid per co-op per job: a co-op takes part in one bid on a job, alone or in one
  consortium. The consortium's bid has ``coop_id`` = the lead and ``consortium_id`` set, so
  ``uq_bid_live`` (job, co-op) also stops the lead bidding alone, and ``uq_bid_live_consortium``
  keeps one live bid per consortium per job. A co-op in the team of a consortium for a job may
  not bid alone on it (``bids.services.check_bidding_alone``), and a co-op with its own live bid
  cannot form or join a consortium for it.
- Once the consortium's bid is submitted (or shortlisted, or won), its team and split are
  fixed: no invitation, no split change, no member leaving, no dissolving. The lead withdraws
  the bid (while bids are open) to change them. The lead never leaves: it dissolves the
  consortium instead (its draft bid is discarded).
- Who sees what: ``consortia/policy.py``.
"""
