"""The coordinator: matching work to co-ops fairly, invitations to bid, and the network's capacity."""
