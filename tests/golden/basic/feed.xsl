<?xml version="1.0" encoding="UTF-8"?>
<!--
  feed.xsl: shows an RSS 2.0 or Atom feed opened in a browser as a readable page, with a
  note on how to subscribe. Feeds link it with <?xml-stylesheet?> ([feeds] stylesheet).
  A site can override it with its own feed.xsl in its templates folder.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:media="http://search.yahoo.com/mrss/"
    exclude-result-prefixes="atom dc media">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>

  <xsl:template match="/">
    <html lang="{/rss/channel/language | /atom:feed/@xml:lang}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          :root { color-scheme: light dark; --ink: #1a1a1a; --muted: #555; --paper: #fff; --accent: #0b4f8a; --note: #eef4fb; }
          @media (prefers-color-scheme: dark) { :root { --ink: #eee; --muted: #bbb; --paper: #161616; --accent: #8cc4ff; --note: #1f2a36; } }
          body { margin: 0 auto; max-width: 44rem; padding: 1rem; font: 1.0625rem/1.55 system-ui, sans-serif; color: var(--ink); background: var(--paper); }
          a { color: var(--accent); }
          .note { background: var(--note); padding: 0.75rem 1rem; border-radius: 0.5rem; }
          .note code { word-break: break-all; }
          h1 { font-size: 1.75rem; line-height: 1.2; margin: 1.5rem 0 0.5rem; }
          h2 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 0.25rem; }
          article { border-top: 1px solid var(--muted); padding: 1rem 0; overflow: hidden; }
          article img { float: right; margin: 0 0 0.5rem 1rem; max-width: 35%; height: auto; }
          .meta { color: var(--muted); font-size: 0.9rem; margin: 0 0 0.5rem; }
        </style>
      </head>
      <body>
        <header>
          <p class="note"><strong>This is a web feed.</strong> To follow it, copy its address
            into your feed reader: <code><xsl:value-of select="$self"/></code></p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="/rss/channel/description | /atom:feed/atom:subtitle"/></p>
          <p><a href="{$home}">Visit the website</a></p>
        </header>
        <main>
          <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <xsl:apply-templates select="media:thumbnail[1]"/>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta">
        <xsl:value-of select="pubDate"/>
        <xsl:for-each select="dc:creator">
          <xsl:choose>
            <xsl:when test="position() = 1"> · </xsl:when>
            <xsl:otherwise>, </xsl:otherwise>
          </xsl:choose>
          <xsl:value-of select="."/>
        </xsl:for-each>
      </p>
      <p><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article>
      <xsl:apply-templates select="media:thumbnail[1]"/>
      <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="meta">
        <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
        <xsl:for-each select="atom:author/atom:name">
          <xsl:choose>
            <xsl:when test="position() = 1"> · </xsl:when>
            <xsl:otherwise>, </xsl:otherwise>
          </xsl:choose>
          <xsl:value-of select="."/>
        </xsl:for-each>
      </p>
      <p><xsl:value-of select="atom:summary"/></p>
    </article>
  </xsl:template>

  <xsl:template match="media:thumbnail">
    <img src="{@url}" alt="" loading="lazy">
      <xsl:if test="@width and @height">
        <xsl:attribute name="width"><xsl:value-of select="@width"/></xsl:attribute>
        <xsl:attribute name="height"><xsl:value-of select="@height"/></xsl:attribute>
      </xsl:if>
    </img>
  </xsl:template>
</xsl:stylesheet>
