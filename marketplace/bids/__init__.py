"""Bidding: interests, sealed bids, shortlisting and the award."""
