"""One adapter per upstream dialect: request translation, response translation (pure)."""
