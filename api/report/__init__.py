"""Evidence packs: one self-contained HTML file (and a PDF of it) per group, built from the graph
and the event store for someone who has neither (a lead, the enforcement desk, a regulator)."""
