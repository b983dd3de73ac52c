# bash completion for web2ftp. Installed by scripts/install.sh as PREFIX/share/bash-completion/completions/web2ftp;
# or source it from ~/.bashrc. Needs bash and awk only (not the bash-completion package's helpers).
# Kept in step with `web2ftp help COMMAND` by Tests/CLITests/OperatorDocsTests.swift.

# The top-level keys of a JSON config, one per line: the source names. A character-level scan that knows strings
# and nesting, so keys of PARAMS or HEADERS and braces inside strings are not taken for names.
_web2ftp_sources() {
    [[ -r $1 && -f $1 ]] || return 0
    awk '
        {
            # Line by line, the state carried over: a newline is whitespace, and a string never spans lines.
            n = length($0)
            for (i = 1; i <= n; i++) {
                c = substr($0, i, 1)
                if (instring) {
                    if (escaped) { escaped = 0; word = word (c == "\"" || c == "\\" || c == "/" ? c : "\\" c) }
                    else if (c == "\\") escaped = 1
                    else if (c == "\"") { instring = 0; key = (depth == 1) }
                    else word = word c
                    continue
                }
                if (c == "\"") { instring = 1; word = ""; continue }
                if (c == ":" && key) print word
                if (c == "{" || c == "[") depth++
                else if (c == "}" || c == "]") depth--
                if (c != " " && c != "\t" && c != "\r") key = 0
            }
        }' "$1" 2>/dev/null
}

# The options of a command, those that take a value written as --opt= (both --opt VALUE and --opt=VALUE work).
_web2ftp_options() {
    local common="--config= --workers= --log= --log-format= --only= --force --state= --retries= -q --quiet -v --verbose -vv --trace
        --summary-json= --metrics-file= --metrics-push= --shard= --cacert= --insecure --ftp-tls= --ftp-use-pasv-ip --ftp-timeout= -h --help -V --version"
    case $1 in
        manual) echo "$common --dry-run" ;;
        schedule) echo "$common --at= --run-now" ;;
        check) echo "--config= --env --ftp-tls= --shard= --shards= -h --help" ;;
        preview) echo "--config= --rows= -o --output= --cacert= --insecure -q --quiet -h --help" ;;
        get) echo "-o --output= --compressed --cacert= --insecure -vv --trace -h --help" ;;
        next-run) echo "--at= --now= --count= --unix -h --help" ;;
    esac
}

_web2ftp() {
    local commands="manual schedule check preview get next-run help"
    # COMP_WORDS splits --config=x into --config, =, x (COMP_WORDBREAKS): join them back into one word.
    local -a words=()
    local i word cword=0 joined=0
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        if ((i > 1)) && [[ $word == "=" && ${words[-1]} == --* && ${words[-1]} != *=* ]]; then
            words[-1]+="="
            joined=1
        elif ((joined)); then
            words[-1]+="$word"
            joined=0
        else
            words+=("$word")
            joined=0
        fi
        ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
    done
    local cur=${words[cword]} prev=""
    ((cword > 0)) && prev=${words[cword - 1]}
    COMPREPLY=()

    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "-h --help -V --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        return 0
    fi

    local command=${words[1]}
    if [[ $command == help ]]; then
        ((cword == 2)) && mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        return 0
    fi
    local options
    options=$(_web2ftp_options "$command")
    [[ -n $options ]] || return 0

    # The config that source names come from: --config's value, else ./config.json.
    local config=config.json positionals=0 ended=0 skip=0 prev_option=""
    for ((i = 2; i < cword; i++)); do
        word=${words[i]}
        if ((skip)); then
            skip=0
            [[ $prev_option == --config ]] && config=$word
            continue
        fi
        if ((ended)) || [[ $word == - || $word != -* ]]; then
            ((positionals++))
            continue
        fi
        case $word in
            --) ended=1 ;;
            --config=*) config=${word#--config=} ;;
            --*=*) ;;
            *)
                if [[ " $options " == *" $word= "* || ($word == -o && " $options " == *" -o "*) ]]; then
                    skip=1
                    prev_option=$word
                fi
                ;;
        esac
    done
    config=${config/#\~/$HOME}

    # A value: --opt=VALUE in this word, or VALUE after an option that takes one.
    local option="" value=""
    if ((!ended)) && [[ $cur == --*=* ]]; then
        option=${cur%%=*} value=${cur#*=}
    elif ((!ended)) && [[ $prev == -* && ($prev == -o || " $options " == *" $prev= "*) ]]; then
        option=$prev value=$cur
    fi
    if [[ -n $option ]]; then
        case $option in
            --config | --log | --cacert | --summary-json | --metrics-file | --state | -o | --output)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$value")
                ;;
            --log-format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$value") ;;
            --ftp-tls) mapfile -t COMPREPLY < <(compgen -W "explicit implicit none" -- "$value") ;;
            --rows) mapfile -t COMPREPLY < <(compgen -W "all" -- "$value") ;;
            --only) _web2ftp_complete_sources "$config" "$value" ;;
        esac
        return 0
    fi

    # The word the command expects here (its mode, a source name, a URL), else its options.
    local expects=""
    case $command in
        manual | schedule) ((positionals == 0)) && expects=mode ;;
        preview) ((positionals == 0)) && expects=source ;;
        get) ((positionals == 0)) && expects=url ;;
    esac
    if ((!ended)) && [[ $cur == -* || ( -z $expects && -z $cur ) ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
        # --config= waits for its value: no space after it.
        [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi
    case $expects in
        mode) mapfile -t COMPREPLY < <(compgen -W "sequential parallel" -- "$cur") ;;
        source) _web2ftp_complete_sources "$config" "$cur" ;;
    esac
    return 0
}

# COMPREPLY: the source names of config $1 that start with $2, quoted for the command line.
_web2ftp_complete_sources() {
    local name
    while IFS= read -r name; do
        [[ $name == "$2"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
    done < <(_web2ftp_sources "$1")
}

complete -F _web2ftp web2ftp
