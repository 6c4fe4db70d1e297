"""The untrusted-YAML boundary: load (load, scalars), dump and the comment-preserving edit."""
