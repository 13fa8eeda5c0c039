"""Text: normalization, wordlist parsing, Aho-Corasick engines, matching and the contact-detail
detectors. Pure: no Kafka, HTTP or metrics imports."""
