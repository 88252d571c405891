"""The explorables: one module of numpy computation (``*_model``) and one Panel page per trick."""
