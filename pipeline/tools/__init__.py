"""Operator tools: the offline scan, the dry run of a candidate list set, the demo and its
sample stream."""
