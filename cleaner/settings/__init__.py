"""Where each setting of a command comes from: the command line, what was remembered for the folder,
config files, and (for the models) the rules file, the environment and the built-in defaults.

One order, the first that has a setting wins (``face-clean config`` shows each setting and its source):

1. the command line;
2. what was remembered for the folder (``DIR/.face-clean/remembered.json``: the options last given to
   ``run`` or ``watch`` on it; cleaner.settings.remembered);
3. the folder's own config file, ``DIR/.face-clean/config.yaml``;
4. ``$FACE_CLEAN_CONFIG`` (a config file, or a folder holding ``config.yaml``);
5. the user's config file, ``$XDG_CONFIG_HOME/face-clean/config.yaml`` (``~/.config/face-clean/``);
6. for the models and engine: the rules file, then ``FACE_CLEAN_DETECTOR``, ``FACE_CLEAN_GENDER_MODEL``
   and ``FACE_CLEAN_AGE_MODEL``, then the built-in defaults (cleaner.rules.model_choice); for
   everything else the built-in defaults.

``--keep`` and ``--rules`` are one setting, the policy: the first source that gives either gives both.
"""
