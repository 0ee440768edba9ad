"""The CV studio's domain: the document schema, its storage, rendering and the text self-check."""
