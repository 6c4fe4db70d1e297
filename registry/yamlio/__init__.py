"""The untrusted-YAML boundary: load (with scalars and files), dump, and the comment-preserving
edit."""
