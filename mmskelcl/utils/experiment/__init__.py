"""Paired multi-seed experiments (``tools/experiment.py``): schedules in
passes (:mod:`.schedule`), runs and their JSONs (:mod:`.runs`,
:mod:`.grid`), loss logs (:mod:`.logs`), tables and plots (:mod:`.table`),
where a grid stands (:mod:`.status`), training curves (:mod:`.curves`);
per-epoch seeding for exact resumption is
:class:`mmskelcl.engine.EpochSeedHook`."""
