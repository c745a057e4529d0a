"""The encoder every head reads (all-MiniLM-L6-v2 with the artifact's adapter, int8 ONNX), its
token windows and de-obfuscated views, and the linear heads: the input classifier's first stage
and the streaming output classifier's head."""
