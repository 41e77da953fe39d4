"""Application layer: composes the stages (pipeline, extractors, index) into operations
(ingest, reprocess, verify) that the services and interfaces call."""
