"""The JSON Schemas of the file kinds: the schema files and copies (files), the validator without
jsonschema for the runtime (shapes, shape_errors), and jsonschema with the messages (validate)."""
