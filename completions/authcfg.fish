complete --keep-order --exclusive --command authcfg --arguments "(AUTHCFG_COMPLETE=fish authcfg -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
