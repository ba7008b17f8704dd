# bash completion for espdoctor                                  -*- shell-script -*-
#
# Installed as $(PREFIX)/share/bash-completion/completions/espdoctor; or source it from
# ~/.bashrc. Works without the bash-completion package.
#
# The words are taken from COMP_LINE up to the cursor, not from COMP_WORDS: bash splits
# COMP_WORDS at ':' and '=', which would tear "rfc2217://host:4000" and "--port=..."
# apart. Replies are trimmed to what bash will replace (the text after the last ':' or
# '=' when those are in COMP_WORDBREAKS).

_espdoctor_commands="list info image flash erase read read-mac merge doctor udev monitor"
_espdoctor_global_options="-p --port --json --no-color -v --verbose -q --quiet
    -h --help --version"
# auto and the keys of src/chips.c's table.
_espdoctor_chips="auto esp8266 esp32 esp32s2 esp32s3 esp32c3 esp32c6"
_espdoctor_bauds="115200 230400 460800 921600 1500000 2000000"

# Options a command takes besides the global ones (-b only where a speed is raised).
_espdoctor_command_options()
{
    case $1 in
        read) echo "-b --baud --chip --before --after --stub --no-stub --button-wait --wait
            --no-config" ;;
        info) echo "--chip --before --after --stub --no-stub --button-wait --wait --no-config" ;;
        read-mac) echo "--chip --before --after --button-wait --no-config" ;;
        merge) echo "-o --output" ;;
        flash) echo "-b --baud --chip --before --after --flash-mode --flash-freq --flash-size --force
            --erase-all --no-skip --stub --no-stub --all --ports --monitor --eol
            --log --timeout --button-wait --wait --no-config" ;;
        monitor) echo "-b --baud --reset --eol --log --timeout --no-config" ;;
        erase) echo "-b --baud --chip --before --after --region --stub --no-stub --button-wait --wait
            --no-config" ;;
        doctor) echo "-b --baud --flash --button-wait --wait --no-config" ;;
        udev) echo "--dry-run --root" ;;
        "") echo "-b --baud --chip --before --after --flash-mode --flash-freq --flash-size -o --output
            --force --erase-all --no-skip --stub --no-stub --all --ports --region --flash --dry-run
            --root --monitor --reset --eol --log --timeout --button-wait --wait --no-config" ;;
    esac
}

# How many values follow an option (0 for a switch).
_espdoctor_option_values()
{
    case $1 in
        -p | --port | -b | --baud | --stub | --root | --flash | --eol | --log | --timeout | \
            --chip | --before | --after | -o | --output | --flash-mode | --flash-freq | \
            --flash-size | --button-wait | --wait | --ports) echo 1 ;;
        --region) echo 2 ;;
        -[!-]?*)
            # A cluster (-vp PORT): a letter that takes a value takes the rest of the word,
            # or, when it ends the word, the next one.
            local i
            for ((i = 1; i < ${#1}; i++)); do
                [[ ${1:i:1} == [pbo] ]] || continue
                ((i == ${#1} - 1)) && echo 1 || echo 0
                return
            done
            echo 0
            ;;
        *) echo 0 ;;
    esac
}

# Serial ports present, and the network transports as prefixes.
_espdoctor_ports()
{
    local port
    for port in /dev/ttyUSB* /dev/ttyACM* /dev/serial/by-id/*; do
        [[ -e $port ]] && printf '%s\n' "$port"
    done
    printf '%s\n' rfc2217:// socket://
}

# Fill COMPREPLY with the values of option $1 that start with $2.
_espdoctor_values()
{
    local option=$1 value=$2
    case $option in
        -p | --port)
            mapfile -t COMPREPLY < <(compgen -W "$(_espdoctor_ports)" -- "$value")
            # A transport prefix wants the host right after it, not a space.
            [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *:// ]] &&
                compopt -o nospace 2>/dev/null
            ;;
        -b | --baud)
            mapfile -t COMPREPLY < <(compgen -W "$_espdoctor_bauds" -- "$value")
            ;;
        --eol)
            mapfile -t COMPREPLY < <(compgen -W "CR LF CRLF" -- "$value")
            ;;
        --chip)
            mapfile -t COMPREPLY < <(compgen -W "$_espdoctor_chips" -- "$value")
            ;;
        --before)
            mapfile -t COMPREPLY < <(compgen -W "default-reset usb-reset no-reset" -- "$value")
            ;;
        --after)
            mapfile -t COMPREPLY < <(compgen -W "hard-reset no-reset" -- "$value")
            ;;
        --flash-mode)
            mapfile -t COMPREPLY < <(compgen -W "keep qio qout dio dout" -- "$value")
            ;;
        --flash-freq)
            mapfile -t COMPREPLY < <(compgen -W "keep 80m 40m 26m 20m" -- "$value")
            ;;
        --flash-size)
            mapfile -t COMPREPLY < <(compgen -W "keep 1MB 2MB 4MB 8MB 16MB 32MB 64MB 128MB" \
                -- "$value")
            ;;
        --stub | --flash | --log | -o | --output | --ports)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$value")
            ;;
        --root)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$value")
            ;;
        *) COMPREPLY=() ;;
    esac
}

# Bash replaces only the text after the last word-break character of the word; drop what
# comes before it from every reply.
_espdoctor_trim_to_word_break()
{
    local word=$1 breaks="" c
    for c in : =; do
        [[ $COMP_WORDBREAKS == *"$c"* ]] && breaks+=$c
    done
    [[ -n $breaks && $word == *[$breaks]* ]] || return 0
    local typed=${word%"${word##*[$breaks]}"} i
    for i in "${!COMPREPLY[@]}"; do
        COMPREPLY[i]=${COMPREPLY[i]#"$typed"}
    done
}

_espdoctor()
{
    COMPREPLY=()
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<<"$line"
    local cur=""
    if [[ $line != *[[:space:]] && ${#words[@]} -gt 0 ]]; then
        cur=${words[-1]}
        unset 'words[-1]'
    fi
    [[ ${#words[@]} -gt 0 ]] || return 0

    # The command, the positional arguments after it, and whether the last word still
    # waits for a value.
    local cmd="" pending=0 pending_option="" i word
    local -a positional=()
    for ((i = 1; i < ${#words[@]}; i++)); do
        word=${words[i]}
        if ((pending > 0)); then
            ((pending--))
            continue
        fi
        case $word in
            --*=*) ;;
            -*)
                pending=$(_espdoctor_option_values "$word")
                pending_option=$word
                ;;
            *)
                if [[ -z $cmd ]]; then cmd=$word; else positional+=("$word"); fi
                ;;
        esac
    done

    if ((pending > 0)); then
        _espdoctor_values "$pending_option" "$cur"
        _espdoctor_trim_to_word_break "$cur"
        return 0
    fi
    if [[ $cur == --*=* ]]; then
        local option=${cur%%=*}
        _espdoctor_values "$option" "${cur#*=}"
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=$option=${COMPREPLY[i]}
        done
        _espdoctor_trim_to_word_break "$cur"
        return 0
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_espdoctor_global_options
            $(_espdoctor_command_options "$cmd")" -- "$cur")
        return 0
    fi
    if [[ -z $cmd ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_espdoctor_commands" -- "$cur")
        return 0
    fi
    case $cmd in
        udev)
            if [[ ${#positional[@]} -eq 0 ]]; then
                mapfile -t COMPREPLY < <(compgen -W "show install uninstall" -- "$cur")
            elif [[ ${#positional[@]} -eq 1 &&
                    (${positional[0]} == show || ${positional[0]} == install) ]]; then
                # The serial group to use instead of the detected one.
                mapfile -t COMPREPLY < <(compgen -g -- "$cur")
            fi
            ;;
        image | flash | read | merge)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
    esac
    _espdoctor_trim_to_word_break "$cur"
    return 0
}

complete -F _espdoctor espdoctor
