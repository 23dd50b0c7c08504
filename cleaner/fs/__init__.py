"""Low-level file plumbing: folders opened without following links, JSON Lines, signatures, hashes, moves."""
