"""The exam paper: model, rich-text subset, answer values, scoring and the package format.

Qt-free, and importable by the reference server (it builds packages and scores answers with
the same code the client uses to open and check them). Modules, one concept each:

- values: ``JsonValue`` and ``QuestionType``, the shared vocabulary
- localized: ``LocalizedText`` (zh_CN + en HTML)
- richtext: the HTML subset allowed in stems and options, and its sanitizer
- media: media file names and kinds
- model / parse: the ``Paper`` dataclasses and their validating parser
- answers: answer-value validation and normalisation per question type
- scoring: objective scoring against the keys
- archive: size- and path-safe zip reading and deterministic zip writing
- source: ``PaperSource``, what an exam author hands in (directory or .zip)
- package: the signed and encrypted ``.exampkg`` format
"""
