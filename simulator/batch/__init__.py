"""Batches of runs: Monte Carlo, sweeps and global sensitivity, in process or on Ray.

- :mod:`.samplers`: seeds and uniform designs (plain Monte Carlo, Latin hypercube);
- :mod:`.worker`: one run in memory -> one row of inputs and KPIs and its yearly series;
- :mod:`.executor`: where runs execute (in process, or Ray tasks on a local or joined cluster);
- :mod:`.store`: streamed part files, compaction, summary statistics, the manifest, resume;
- :mod:`.terms`: the direct-PPA contract stress test's KPIs and table;
- :mod:`.sensitivity`: SALib designs and indices;
- :mod:`.commands`: the ``mc``, ``sweep`` and ``sensitivity`` commands.
"""
