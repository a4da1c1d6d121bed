"""Email domains people use privately: an address there says nothing about a company."""

from __future__ import annotations

FREE_MAIL_DOMAINS = frozenset(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.de yahoo.fr yahoo.es yahoo.it ymail.com
    rocketmail.com hotmail.com hotmail.co.uk hotmail.de hotmail.fr hotmail.es hotmail.it
    outlook.com outlook.de outlook.fr live.com live.co.uk live.de live.fr live.nl msn.com
    aol.com aol.de icloud.com me.com mac.com gmx.de gmx.net gmx.com gmx.at gmx.ch web.de
    t-online.de freenet.de arcor.de posteo.de mailbox.org mail.ru bk.ru inbox.ru list.ru
    yandex.ru yandex.com proton.me protonmail.com protonmail.ch pm.me tutanota.com tuta.io
    zoho.com fastmail.com hey.com qq.com 163.com 126.com sina.com naver.com orange.fr free.fr
    wanadoo.fr laposte.net sfr.fr libero.it virgilio.it tiscali.it alice.it btinternet.com
    sky.com virginmedia.com ntlworld.com comcast.net verizon.net att.net sbcglobal.net
    bellsouth.net cox.net charter.net earthlink.net shaw.ca rogers.com sympatico.ca bigpond.com
    optusnet.com.au rediffmail.com seznam.cz centrum.cz wp.pl o2.pl interia.pl onet.pl
    telenet.be skynet.be ziggo.nl kpnmail.nl hetnet.nl planet.nl bluewin.ch hispeed.ch
    telia.com bredband.net online.no terra.com.br uol.com.br bol.com.br
    """.split()  # noqa: SIM905 — a word list reads better than a list literal
)


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL_DOMAINS


def work_domain(email: str) -> str:
    """The domain of a work address; "" for free-mail and for no address."""
    if not email:
        return ""
    domain = email.rpartition("@")[2]
    return "" if domain in FREE_MAIL_DOMAINS else domain
