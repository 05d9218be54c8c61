def invalidate_dependents(model, fnames):
    """After rows of ``model`` were written in SQL: drop from the cache the
    computed fields that are not stored and depend on ``fnames`` (statistics,
    counts), as the ORM's ``modified`` does, without reading the rows again.
    The engine writes the stored fields itself."""
    for fname in fnames:
        for field in model.pool.get_dependent_fields(model._fields[fname]):
            if not field.store:
                model.env[field.model_name].invalidate_model([field.name])
