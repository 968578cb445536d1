"""Results statisticians ask for first: endpoint rates by arm and Kaplan-Meier estimates (OUT/results/)."""
