"""The only package that talks to WeCom."""
