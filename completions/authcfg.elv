
set edit:completion:arg-completer[authcfg] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) AUTHCFG_COMPLETE="elvish" authcfg -- $@words) | to-lines
}

